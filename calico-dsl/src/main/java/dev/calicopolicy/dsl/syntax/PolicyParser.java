package dev.calicopolicy.dsl.syntax;

import dev.calicopolicy.dsl.Diagnostic;
import dev.calicopolicy.dsl.model.SourceLocation;
import dev.calicopolicy.dsl.syntax.SourceModel.SourceFile;
import dev.calicopolicy.dsl.syntax.antlr.CalicoLexer;
import dev.calicopolicy.dsl.syntax.antlr.CalicoParser;
import java.util.List;
import java.util.Optional;
import org.antlr.v4.runtime.BaseErrorListener;
import org.antlr.v4.runtime.CharStreams;
import org.antlr.v4.runtime.CommonTokenStream;
import org.antlr.v4.runtime.InputMismatchException;
import org.antlr.v4.runtime.NoViableAltException;
import org.antlr.v4.runtime.Parser;
import org.antlr.v4.runtime.RecognitionException;
import org.antlr.v4.runtime.Recognizer;
import org.antlr.v4.runtime.Token;
import org.antlr.v4.runtime.atn.PredictionMode;
import org.antlr.v4.runtime.misc.IntervalSet;
import org.antlr.v4.runtime.misc.ParseCancellationException;

/**
 * Parses the text of one {@code .calico} file into its source model. A syntax error stops the parse
 * of that file and gives one diagnostic, not a cascade: the first place where the text stops making
 * sense, with what was found and what was expected there.
 */
public final class PolicyParser {
    private PolicyParser() {}

    /** The outcome of parsing one file: its source model, or the syntax error that stopped it. */
    public record Result(Optional<SourceFile> file, List<Diagnostic> diagnostics) {}

    public static Result parse(String displayPath, String text) {
        SyntaxErrorListener errors = new SyntaxErrorListener(displayPath);
        CalicoLexer lexer = new CalicoLexer(CharStreams.fromString(text, displayPath));
        lexer.removeErrorListeners();
        CalicoParser parser = new CalicoParser(new CommonTokenStream(lexer));
        parser.removeErrorListeners();
        parser.addErrorListener(errors);
        parser.setErrorHandler(new FirstErrorStrategy());
        parser.getInterpreter().setPredictionMode(PredictionMode.SLL);

        CalicoParser.PolicyFileContext tree;
        try {
            tree = parser.policyFile();
        } catch (ParseCancellationException e) {
            return new Result(Optional.empty(), List.of(errors.first()));
        }
        if (errors.first() != null) {
            return new Result(Optional.empty(), List.of(errors.first()));
        }

        SourceModelBuilder builder = new SourceModelBuilder(displayPath);
        SourceFile file = builder.build(tree);
        return new Result(Optional.of(file), builder.diagnostics());
    }

    /** Reports the first error and cancels the parse, so one mistake gives one message. */
    private static final class FirstErrorStrategy
            extends org.antlr.v4.runtime.DefaultErrorStrategy {
        @Override
        public void recover(Parser recognizer, RecognitionException e) {
            throw new ParseCancellationException(e);
        }

        @Override
        public Token recoverInline(Parser recognizer) {
            InputMismatchException e = new InputMismatchException(recognizer);
            reportError(recognizer, e);
            throw new ParseCancellationException(e);
        }

        @Override
        public void sync(Parser recognizer) {
            // No single-token deletion or insertion: the first error is the one reported.
        }

        @Override
        protected void reportNoViableAlternative(Parser recognizer, NoViableAltException e) {
            recognizer.notifyErrorListeners(
                    e.getOffendingToken(),
                    expectedMessage(recognizer, e.getOffendingToken(), e.getExpectedTokens()),
                    e);
        }

        @Override
        protected void reportInputMismatch(Parser recognizer, InputMismatchException e) {
            recognizer.notifyErrorListeners(
                    e.getOffendingToken(),
                    expectedMessage(recognizer, e.getOffendingToken(), e.getExpectedTokens()),
                    e);
        }

        private static String expectedMessage(Parser parser, Token found, IntervalSet expected) {
            return "expected "
                    + SyntaxErrorListener.describeExpected(parser, expected)
                    + " but found "
                    + SyntaxErrorListener.describeToken(found);
        }
    }

    private static final class SyntaxErrorListener extends BaseErrorListener {
        private final String displayPath;
        private Diagnostic first;

        SyntaxErrorListener(String displayPath) {
            this.displayPath = displayPath;
        }

        Diagnostic first() {
            return first;
        }

        @Override
        public void syntaxError(
                Recognizer<?, ?> recognizer,
                Object offendingSymbol,
                int line,
                int charPositionInLine,
                String msg,
                RecognitionException e) {
            if (first != null) {
                return;
            }
            String message = msg;
            if (offendingSymbol instanceof Token t && t.getType() == CalicoLexer.ERROR_CHAR) {
                message = "unexpected character " + describeToken(t);
            } else if (offendingSymbol instanceof Token t
                    && t.getType() == CalicoLexer.WORD
                    && t.getText().contains("->")) {
                message = "write spaces around '->' in " + describeToken(t);
            }
            first =
                    Diagnostic.error(
                            new SourceLocation(displayPath, line, charPositionInLine + 1), message);
        }

        static String describeToken(Token t) {
            if (t.getType() == Token.EOF) {
                return "end of file";
            }
            return "'" + t.getText().replace("\n", "\\n") + "'";
        }

        static String describeExpected(Parser parser, IntervalSet expected) {
            if (expected == null || expected.isNil()) {
                return "something else";
            }
            List<Integer> types = expected.toList();
            boolean anyName = types.contains(CalicoLexer.WORD);
            StringBuilder out = new StringBuilder();
            int shown = 0;
            for (int type : types) {
                if (anyName && isKeyword(type) && types.size() > 8) {
                    continue;
                }
                if (shown > 0) {
                    out.append(shown == types.size() - 1 ? " or " : ", ");
                }
                out.append(describeType(parser, type));
                shown++;
            }
            String text = out.toString();
            int lastComma = text.lastIndexOf(", ");
            if (shown > 1 && !text.contains(" or ") && lastComma >= 0) {
                text = text.substring(0, lastComma) + " or " + text.substring(lastComma + 2);
            }
            return text;
        }

        private static boolean isKeyword(int type) {
            return type >= CalicoLexer.ALLOW && type <= CalicoLexer.WORKLOAD;
        }

        private static String describeType(Parser parser, int type) {
            return switch (type) {
                case Token.EOF -> "end of file";
                case CalicoLexer.WORD -> "a name or value";
                case CalicoLexer.STRING -> "a quoted path";
                default -> parser.getVocabulary().getDisplayName(type);
            };
        }
    }
}
