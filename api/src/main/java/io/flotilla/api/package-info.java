/**
 * The Dropwizard application every Flotilla node runs, and the {@code flotilla} command line.
 *
 * <p>{@link io.flotilla.api.FlotillaApplication#run} wires the node by hand, top to bottom:
 * the RocksDB engine, the {@link io.flotilla.raft.NodeHost} (a {@code Managed}), the
 * {@link io.flotilla.api.service.KeyService} that routes every request to its range, the thin
 * JAX-RS resources of shared/API.md, exception mappers that produce its JSON errors, health
 * checks and metrics.
 *
 * <p>Resources are asynchronous: they return {@code CompletionStage}s completed by Ratis
 * callbacks, so no request thread waits on consensus. Nothing here holds consensus or storage
 * logic.
 */
package io.flotilla.api;
