/**
 * A YCSB binding for Flotilla, so YCSB's own client ({@code site.ycsb.Client}) can drive a
 * cluster: {@link io.flotilla.bench.ycsb.FlotillaYcsbClient} is the {@code site.ycsb.DB} over the
 * Java SDK's HTTP client, and {@code bin/flotilla bench ycsb} runs YCSB's core workloads A-F
 * with the same mixes as the built-in generator. Each YCSB record (a map of fields) is stored as
 * one Flotilla value ({@link io.flotilla.bench.ycsb.RecordCodec}) under the key
 * {@code <table>/<record key>}. YCSB calls a {@code DB} instance from one thread only.
 */
package io.flotilla.bench.ycsb;
