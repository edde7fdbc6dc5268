// Copies each example, as a user would copy it to start a policy repository.
import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.StandardCopyOption

['web-shop', 'multi-tenant'].each { name ->
    Path from = new File(examplesDirectory, name).toPath()
    Path to = basedir.toPath().resolve(name)
    Files.walk(from).withCloseable { walk ->
        walk.filter { !from.relativize(it).toString().startsWith('target') }.each { Path p ->
            Path target = to.resolve(from.relativize(p).toString())
            if (Files.isDirectory(p)) {
                Files.createDirectories(target)
            } else {
                Files.copy(p, target, StandardCopyOption.REPLACE_EXISTING)
            }
        }
    }
}
true
