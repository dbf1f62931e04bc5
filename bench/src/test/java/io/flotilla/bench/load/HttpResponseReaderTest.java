package io.flotilla.bench.load;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class HttpResponseReaderTest {
  @Test
  void readsABodyFramedByContentLengthAndLeavesTheNextResponse() throws IOException {
    InputStream in = stream("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello"
        + "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n");
    HttpResponse first = HttpResponseReader.read(in);
    assertEquals(200, first.status());
    assertEquals("hello", new String(first.body(), StandardCharsets.UTF_8));
    assertFalse(first.close());
    assertEquals(404, HttpResponseReader.read(in).status());
  }

  @Test
  void joinsTheChunksOfAChunkedBody() throws IOException {
    HttpResponse r = HttpResponseReader.read(stream(
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{\"kv\r\n3;ext=1\r\ns\":\r\n2\r\n1}\r\n0\r\n\r\n"));
    assertEquals("{\"kvs\":1}", new String(r.body(), StandardCharsets.UTF_8));
    assertTrue(r.bodyContains("\"kvs\""));
  }

  @Test
  void aBodyWithoutLengthRunsToTheEndAndClosesTheConnection() throws IOException {
    HttpResponse r = HttpResponseReader.read(stream("HTTP/1.1 200 OK\r\n\r\nall of it"));
    assertEquals("all of it", new String(r.body(), StandardCharsets.UTF_8));
    assertTrue(r.close());
  }

  @Test
  void connectionCloseIsReported() throws IOException {
    assertTrue(HttpResponseReader.read(stream("HTTP/1.1 503 Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"))
        .close());
  }

  @Test
  void aTruncatedBodyIsAnErrorNotAShortAnswer() {
    assertThrows(EOFException.class,
        () -> HttpResponseReader.read(stream("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort")));
    assertThrows(EOFException.class, () -> HttpResponseReader.read(stream("")));
  }

  @Test
  void aFailureIsNamedByItsStatusAndErrorCode() {
    HttpResponse flotilla = new HttpResponse(503,
        "{\"error\": \"unavailable\", \"message\": \"no leader\"}".getBytes(StandardCharsets.UTF_8), false);
    assertEquals("HTTP 503 unavailable", flotilla.failureCause());
    HttpResponse etcd = new HttpResponse(503,
        "{\"error\":\"etcdserver: request timed out\",\"code\":14}".getBytes(StandardCharsets.UTF_8), false);
    assertEquals("HTTP 503 etcdserver: request timed out", etcd.failureCause());
    assertEquals("HTTP 502", new HttpResponse(502, new byte[0], false).failureCause());
  }

  private static InputStream stream(String s) {
    return new ByteArrayInputStream(s.getBytes(StandardCharsets.UTF_8));
  }
}
