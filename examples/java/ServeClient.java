// Groups one case with a running `drg serve`, using only the JDK (11+):
// java.net.http.HttpClient. Prints the result JSON (the same object as a
// line of `drg group --format jsonl`).
//
//   java ServeClient.java http://127.0.0.1:8080 '{"id":"1","sex":"1","age_years":30,"diagnoses":["K35.800"]}'

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

public final class ServeClient {
    public static void main(String[] args) throws Exception {
        String base = args[0];
        String caseJson = args[1];
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        HttpRequest request = HttpRequest.newBuilder(URI.create(base + "/v1/group?explain=false"))
                .header("Content-Type", "application/json")
                .timeout(Duration.ofSeconds(30))
                .POST(HttpRequest.BodyPublishers.ofString(caseJson))
                .build();
        HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) {
            // Errors are JSON too: {"error": "...", "status": 400, "field": "age_years"}
            System.err.println("HTTP " + response.statusCode() + ": " + response.body());
            System.exit(1);
        }
        System.out.println(response.body());
    }
}
