package io.flotilla.api.resources;

import com.google.protobuf.ByteString;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.MultivaluedMap;
import jakarta.ws.rs.ext.MessageBodyWriter;
import jakarta.ws.rs.ext.Provider;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.annotation.Annotation;
import java.lang.reflect.Type;

/**
 * Writes a {@link ByteString} answer (a raw read's value) as it is, without first copying it
 * into a {@code byte[]}: a value travels from the replica's read to the HTTP answer as one array.
 */
@Provider
@Produces(MediaType.WILDCARD)
public final class ByteStringBodies implements MessageBodyWriter<ByteString> {
  @Override
  public boolean isWriteable(Class<?> type, Type genericType, Annotation[] annotations, MediaType mediaType) {
    return ByteString.class.isAssignableFrom(type);
  }

  @Override
  public long getSize(ByteString value, Class<?> type, Type genericType, Annotation[] annotations, MediaType mediaType) {
    return value.size();
  }

  @Override
  public void writeTo(ByteString value, Class<?> type, Type genericType, Annotation[] annotations, MediaType mediaType,
      MultivaluedMap<String, Object> headers, OutputStream out) throws IOException {
    value.writeTo(out);
  }
}
