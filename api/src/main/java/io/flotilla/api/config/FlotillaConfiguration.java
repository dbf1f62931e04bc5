package io.flotilla.api.config;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.dropwizard.core.Configuration;
import jakarta.validation.Valid;
import jakarta.validation.constraints.NotNull;

/** A node's whole configuration: Dropwizard's server and logging, plus {@code flotilla:}. */
public class FlotillaConfiguration extends Configuration {
  @Valid @NotNull @JsonProperty public NodeConfig flotilla = new NodeConfig();
}
