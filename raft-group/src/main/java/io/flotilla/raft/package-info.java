/**
 * Hosting many range groups on one Ratis {@code RaftServer} per node.
 *
 * <p>{@link io.flotilla.raft.NodeHost} owns the server: it bootstraps a new cluster's initial
 * ranges, recovers every group on restart (Ratis re-opens each group directory and asks the
 * registry for its {@link io.flotilla.raft.RangeStateMachine}), and hands out
 * {@link io.flotilla.client.RangeClient}s that reach each range's leader.
 *
 * <p>Threads: each range applies its log on its own Ratis state-machine-updater thread;
 * snapshot installs run on a small dedicated pool, never on a Ratis thread.
 *
 * <p>Guarantees: a write is acknowledged only after a majority fsynced it in the Raft log; each
 * apply writes the range's data and applied index in one engine batch, so a restart resumes
 * exactly; a replica too far behind catches up by streaming the range's span from a peer.
 */
package io.flotilla.raft;
