// Groups a CSV of cases (the columns of specs/cases.md) through libdrg.so,
// from Java, and prints one JSON result a line: the same lines as
// `drg group --format jsonl`.
//
// libdrg is called through JNA (Debian: libjna-java; Maven: net.java.dev.jna:jna).
// JDK 22+ can do the same with java.lang.foreign; JNA works on JDK 8 and up.
//
//   javac -cp /usr/share/java/jna.jar -d out GroupCsv.java
//   java -cp /usr/share/java/jna.jar:out -Djna.library.path=target/release \
//        GroupCsv examples/cases.csv [PACK]
//
// PACK is a pack directory or a compiled pack; without it, the built-in demo
// pack.

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Pointer;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

public final class GroupCsv {
    /** The functions of include/drg.h this example uses. */
    public interface Drg extends Library {
        Drg LIB = Native.load("drg", Drg.class, Map.of(Library.OPTION_STRING_ENCODING, "UTF-8"));

        Pointer drg_grouper_open(String packPath);
        Pointer drg_grouper_open_demo();
        void drg_grouper_close(Pointer grouper);
        /** A case as a JSON object in, a result as a JSON object out (free it with drg_string_free). */
        Pointer drg_group_json(Pointer grouper, String caseJson, int explain);
        void drg_string_free(Pointer s);
        String drg_last_error();
    }

    public static void main(String[] args) throws IOException {
        if (args.length < 1 || args.length > 2) {
            System.err.println("usage: GroupCsv CASES.csv [PACK]");
            System.exit(2);
        }
        Drg drg = Drg.LIB;
        Pointer grouper = args.length == 2 ? drg.drg_grouper_open(args[1]) : drg.drg_grouper_open_demo();
        if (grouper == null) {
            System.err.println("cannot open the pack: " + drg.drg_last_error());
            System.exit(2);
        }
        PrintStream out = new PrintStream(System.out, false, StandardCharsets.UTF_8);
        try (BufferedReader in = Files.newBufferedReader(Paths.get(args[0]), StandardCharsets.UTF_8)) {
            String headerLine = in.readLine();
            if (headerLine == null) return;
            List<String> header = splitCsv(headerLine.replace("\uFEFF", ""));
            String line;
            int lineNo = 1;
            while ((line = in.readLine()) != null) {
                lineNo++;
                if (line.isEmpty()) continue;
                List<String> cells = splitCsv(line);
                StringBuilder json = new StringBuilder("{");
                for (int i = 0; i < header.size() && i < cells.size(); i++) {
                    if (i > 0) json.append(',');
                    quote(json, header.get(i)).append(':');
                    quote(json, cells.get(i));
                }
                json.append('}');
                Pointer result = drg.drg_group_json(grouper, json.toString(), 0);
                if (result == null) {
                    System.err.println("line " + lineNo + ": " + drg.drg_last_error());
                    continue;
                }
                try {
                    out.println(result.getString(0, "UTF-8"));
                } finally {
                    drg.drg_string_free(result);
                }
            }
        } finally {
            drg.drg_grouper_close(grouper);
            out.flush();
        }
    }

    /** One CSV record's cells (RFC 4180 quotes; no newlines inside cells). */
    static List<String> splitCsv(String line) {
        List<String> cells = new ArrayList<>();
        StringBuilder cell = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (quoted) {
                if (c == '"' && i + 1 < line.length() && line.charAt(i + 1) == '"') {
                    cell.append('"');
                    i++;
                } else if (c == '"') {
                    quoted = false;
                } else {
                    cell.append(c);
                }
            } else if (c == '"') {
                quoted = true;
            } else if (c == ',') {
                cells.add(cell.toString());
                cell.setLength(0);
            } else {
                cell.append(c);
            }
        }
        cells.add(cell.toString());
        return cells;
    }

    /** Appends s as a JSON string. */
    static StringBuilder quote(StringBuilder json, String s) {
        json.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"': json.append("\\\""); break;
                case '\\': json.append("\\\\"); break;
                default:
                    if (c < 0x20) json.append(String.format("\\u%04x", (int) c));
                    else json.append(c);
            }
        }
        return json.append('"');
    }
}
