// An etcd URL on a loopback port that nothing listens on.
def socket = new ServerSocket(0)
def url = "http://127.0.0.1:${socket.localPort}".toString()
socket.close()
context.userProperties.setProperty('calico.etcd', url)
context.etcdUrl = url
true
