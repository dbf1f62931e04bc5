/**
 * The Java SDK over HTTP: {@link io.flotilla.client.http.FlotillaClient} speaks shared/API.md
 * to any list of nodes, and {@link io.flotilla.client.http.Session} adds read-your-writes and
 * monotonic reads on top of it.
 *
 * <p>Who calls it: applications, tools and whole-cluster tests, from any thread. Everything is
 * asynchronous ({@code CompletableFuture}); nothing blocks a caller's thread. Futures complete on
 * the HTTP client's threads (or the {@code Executor} given to the builder). No Dropwizard and no
 * Jersey here: {@code java.net.http.HttpClient} and Jackson only.
 *
 * <p>What it guarantees:
 * <ul>
 *   <li>A request goes to one node; when the node cannot be reached, or answers {@code 503} or
 *       {@code 429} (API.md: nothing was applied), it goes to the next node after a backoff, a
 *       bounded number of times.
 *   <li>A write that may have reached a node (a client-side timeout, a connection broken after
 *       sending, a {@code 504}) is never sent again by the client: it fails with {@link
 *       io.flotilla.client.http.OutcomeUnknownException}.
 *   <li>Every API error becomes a {@link io.flotilla.client.http.FlotillaClientException} with
 *       the API's code, the HTTP status, the message and {@code current_version} /
 *       {@code failed_index} when the server sent them.
 *   <li>Sessions: see {@link io.flotilla.client.http.Session} for what they cover and what not.
 * </ul>
 *
 * <p>What it does not: it does not talk Raft or route to range leaders (the nodes forward; that
 * is {@link io.flotilla.client.RangeClient}'s job inside the cluster), and it does not retry a
 * failed condition or an outcome-unknown write for you.
 */
package io.flotilla.client.http;
