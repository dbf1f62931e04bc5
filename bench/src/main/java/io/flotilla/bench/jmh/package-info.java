/**
 * JMH microbenchmarks of the hot paths under every request: encoding and decoding the protobuf
 * commands of {@code common}, one command's apply ({@code RangeLogic} plus the engine write the
 * Raft state machine does), and the RocksDB engine's writes and reads. They are compiled by every
 * build but run only by {@code bin/flotilla bench jmh}, never by the tests; each prints JMH's
 * table. Settings are short (1 fork, 2 warm-up and 3 measured iterations of 2 s) so a full run
 * fits a few minutes on a small machine; JMH's options override them.
 */
package io.flotilla.bench.jmh;
