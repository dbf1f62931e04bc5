package io.flotilla.api.service;

/** A read result and the node whose replica produced it. */
public record Served<T>(T result, String servedBy, long appliedRevision) {}
