package io.flotilla.client.http;

import java.time.Instant;

/**
 * The outcome of one op of a batch, in the order of the request. Fields that do not apply to
 * the op's kind are 0, false or null.
 *
 * @param version put: the new version; get: the key's version (0 if not found)
 * @param revision put and delete: the range revision at which the op applied
 * @param deleted delete: whether the key existed
 * @param found get: whether the key exists
 * @param value get: the value, or null
 * @param error null when the op succeeded; else what failed (non-atomic batches only: an atomic
 *     batch fails as a whole)
 */
public record BatchOpResult(BatchOp.Kind kind, String key, long version, long revision, boolean deleted,
    boolean found, byte[] value, Instant expiresAt, FlotillaClientException error) {
  public boolean ok() {
    return error == null;
  }
}
