package dev.jumbo.explain;

/** Escaping for the HTML this package writes: any text, a label or a token included, stays text. */
final class Html {
    private Html() {}

    /** {@code text} safe inside an element or a quoted attribute: {@code & < > " '} as entities. */
    static String escape(String text) {
        StringBuilder s = new StringBuilder(text.length() + 16);
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '&' -> s.append("&amp;");
                case '<' -> s.append("&lt;");
                case '>' -> s.append("&gt;");
                case '"' -> s.append("&quot;");
                case '\'' -> s.append("&#39;");
                default -> s.append(c);
            }
        }
        return s.toString();
    }
}
