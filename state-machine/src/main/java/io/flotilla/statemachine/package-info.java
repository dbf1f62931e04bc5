/**
 * One range's logic: decode a command, check the range's span and epoch, and produce the
 * mutations and the result; plus the {@link io.flotilla.statemachine.KvEngine} it runs over
 * (RocksDB on nodes, in memory in unit tests) and range snapshots.
 *
 * <p>{@link io.flotilla.statemachine.RangeLogic} and {@link io.flotilla.statemachine.RangeQueries}
 * are pure functions of (command or query, prior state): they never read a clock, a random
 * source or the network, so every replica that applies the same log reaches the same state.
 * The only notion of "now" is the proposer's timestamp carried inside the command.
 *
 * <p>Callers: the Raft state machine in {@code raft-group}, on the Ratis apply thread of
 * each range (one thread per range, so a range's applies never race each other).
 */
package io.flotilla.statemachine;
