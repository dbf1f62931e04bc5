package io.flotilla.common;

/**
 * A node as other nodes and clients address it.
 *
 * @param id stable node id (also its Raft peer id), e.g. {@code n1}
 * @param httpUrl base URL of its HTTP API, e.g. {@code http://127.0.0.11:7001}
 * @param raftAddress host:port of its Raft server
 */
public record ClusterNode(String id, String httpUrl, String raftAddress) {}
