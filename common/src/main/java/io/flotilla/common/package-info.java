/**
 * Shared vocabulary of every Flotilla module: the protobuf messages generated into
 * {@code io.flotilla.proto} (Raft commands, queries, range descriptors, the snapshot stream),
 * key ordering, and the error codes of shared/API.md.
 *
 * <p>Nothing here does I/O or holds threads; every other module may depend on it and it
 * depends on nothing of ours.
 */
package io.flotilla.common;
