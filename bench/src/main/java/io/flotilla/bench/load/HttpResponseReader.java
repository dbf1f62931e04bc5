package io.flotilla.bench.load;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;

/**
 * Reads one HTTP/1.1 response from a buffered stream: status line, headers, then a body framed
 * by {@code Content-Length}, by chunked transfer coding (etcd's gateway answers larger bodies
 * chunked), or by the end of the connection. Only what the two stores under test send is
 * understood; anything else is an {@link IOException}, never a silent misread.
 */
public final class HttpResponseReader {
  private static final int MAX_LINE = 16 * 1024;

  private HttpResponseReader() {}

  public static HttpResponse read(InputStream in) throws IOException {
    String statusLine = readLine(in);
    if (statusLine == null) {
      throw new EOFException("the server closed the connection without an answer");
    }
    if (!statusLine.startsWith("HTTP/1.") || statusLine.length() < 12) {
      throw new IOException("not an HTTP/1.x status line: " + statusLine);
    }
    int status = Integer.parseInt(statusLine.substring(9, 12));
    long length = -1;
    boolean chunked = false;
    boolean close = statusLine.startsWith("HTTP/1.0");
    String line;
    while ((line = readLine(in)) != null && !line.isEmpty()) {
      int colon = line.indexOf(':');
      if (colon <= 0) {
        throw new IOException("malformed header line: " + line);
      }
      String name = line.substring(0, colon).trim();
      String value = line.substring(colon + 1).trim();
      if (name.equalsIgnoreCase("Content-Length")) {
        length = Long.parseLong(value);
      } else if (name.equalsIgnoreCase("Transfer-Encoding")) {
        chunked = value.equalsIgnoreCase("chunked");
      } else if (name.equalsIgnoreCase("Connection")) {
        close = value.equalsIgnoreCase("close");
      }
    }
    if (line == null) {
      throw new EOFException("the connection ended inside the response headers");
    }
    byte[] body;
    if (status / 100 == 1 || status == 204 || status == 304) {
      body = new byte[0];
    } else if (chunked) {
      body = readChunked(in);
    } else if (length >= 0) {
      body = readExactly(in, length);
    } else {
      body = in.readAllBytes();
      close = true;
    }
    return new HttpResponse(status, body, close);
  }

  private static byte[] readChunked(InputStream in) throws IOException {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    while (true) {
      String sizeLine = readLine(in);
      if (sizeLine == null) {
        throw new EOFException("the connection ended inside a chunked body");
      }
      int semicolon = sizeLine.indexOf(';');
      long size = Long.parseLong((semicolon < 0 ? sizeLine : sizeLine.substring(0, semicolon)).trim(), 16);
      if (size == 0) {
        String trailer;
        while ((trailer = readLine(in)) != null && !trailer.isEmpty()) {
          // trailers carry nothing the benchmark needs
        }
        return body.toByteArray();
      }
      body.write(readExactly(in, size));
      if (!"".equals(readLine(in))) {
        throw new IOException("a chunk did not end with CRLF");
      }
    }
  }

  private static byte[] readExactly(InputStream in, long length) throws IOException {
    if (length > Integer.MAX_VALUE - 8) {
      throw new IOException("response body too large: " + length + " bytes");
    }
    byte[] bytes = in.readNBytes((int) length);
    if (bytes.length != length) {
      throw new EOFException("the connection ended after " + bytes.length + " of " + length + " body bytes");
    }
    return bytes;
  }

  /** A line without its CRLF (a bare LF is accepted), or null when the stream ends first. */
  private static String readLine(InputStream in) throws IOException {
    StringBuilder line = new StringBuilder(64);
    int b;
    while ((b = in.read()) != -1) {
      if (b == '\n') {
        int last = line.length() - 1;
        if (last >= 0 && line.charAt(last) == '\r') {
          line.setLength(last);
        }
        return line.toString();
      }
      if (line.length() >= MAX_LINE) {
        throw new IOException("an HTTP line longer than " + MAX_LINE + " bytes");
      }
      line.append((char) b);
    }
    return null;
  }
}
