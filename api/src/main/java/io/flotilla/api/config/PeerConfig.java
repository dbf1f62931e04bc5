package io.flotilla.api.config;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.flotilla.common.ClusterNode;
import jakarta.validation.constraints.NotEmpty;
import jakarta.validation.constraints.Pattern;

/** One member of the cluster as the configuration names it. */
public class PeerConfig {
  @NotEmpty
  @Pattern(regexp = "[A-Za-z0-9_-]{1,32}", message = "must be 1-32 letters, digits, '_' or '-'")
  @JsonProperty
  public String id;

  /** Base URL of the node's HTTP API, e.g. http://127.0.0.11:7001. */
  @NotEmpty
  @Pattern(regexp = "https?://[^/]+", message = "must be a base URL such as http://127.0.0.11:7001")
  @JsonProperty
  public String http;

  /** host:port of the node's Raft server. */
  @NotEmpty
  @Pattern(regexp = "[^:]+:[0-9]{1,5}", message = "must be host:port")
  @JsonProperty
  public String raft;

  public PeerConfig() {}

  public PeerConfig(String id, String http, String raft) {
    this.id = id;
    this.http = http;
    this.raft = raft;
  }

  public ClusterNode toNode() {
    return new ClusterNode(id, http, raft);
  }
}
