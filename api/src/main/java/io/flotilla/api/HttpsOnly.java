package io.flotilla.api;

import io.dropwizard.core.server.DefaultServerFactory;
import io.dropwizard.core.server.SimpleServerFactory;
import io.dropwizard.jetty.ConnectorFactory;
import io.dropwizard.jetty.HttpConnectorFactory;
import io.dropwizard.jetty.HttpsConnectorFactory;
import io.flotilla.api.config.FlotillaConfiguration;
import javax.net.ssl.SSLContext;
import org.eclipse.jetty.util.ssl.SslContextFactory;

/**
 * Serves a node's HTTP ports over HTTPS only, with the node's TLS identity ({@code tls:} of its
 * configuration, PEM files) instead of a Java key store: every plain HTTP connector becomes an
 * HTTPS one on the same address and port.
 */
final class HttpsOnly {
  private HttpsOnly() {}

  static void apply(FlotillaConfiguration config, SSLContext context) {
    if (config.getServerFactory() instanceof SimpleServerFactory simple) {
      simple.setConnector(https(simple.getConnector(), context));
    } else if (config.getServerFactory() instanceof DefaultServerFactory full) {
      full.setApplicationConnectors(full.getApplicationConnectors().stream().map(c -> https(c, context)).toList());
      full.setAdminConnectors(full.getAdminConnectors().stream().map(c -> https(c, context)).toList());
    }
  }

  private static ConnectorFactory https(ConnectorFactory c, SSLContext context) {
    if (!(c instanceof HttpConnectorFactory plain) || c instanceof HttpsConnectorFactory) {
      return c; // already HTTPS (configured with a key store), or not HTTP at all
    }
    // The address, port, idle timeout and URI rules carry over; a connector needing more of
    // Dropwizard's settings can be configured as type https with a key store instead.
    PemHttps https = new PemHttps(context);
    https.setBindHost(plain.getBindHost());
    https.setPort(plain.getPort());
    https.setIdleTimeout(plain.getIdleTimeout());
    https.setUriCompliance(plain.getUriCompliance());
    return https;
  }

  /** An HTTPS connector whose TLS is a ready SSL context. */
  static final class PemHttps extends HttpsConnectorFactory {
    private final transient SSLContext context;

    PemHttps(SSLContext context) {
      this.context = context;
    }

    /** Dropwizard's key store settings do not apply: the context is ready; TLS 1.2 and 1.3 only. */
    @Override
    protected SslContextFactory.Server configureSslContextFactory(SslContextFactory factory) {
      factory.setSslContext(context);
      factory.setIncludeProtocols("TLSv1.3", "TLSv1.2");
      return (SslContextFactory.Server) factory;
    }
  }
}
