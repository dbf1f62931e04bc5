package io.flotilla.bench.load;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.junit.jupiter.api.Test;

class StoreApiEncodingTest {
  private final ObjectMapper json = new ObjectMapper();

  @Test
  void etcdPutCarriesKeyAndValueInBase64() throws IOException {
    byte[] value = {0, 1, 2, (byte) 0xff};
    JsonNode put = json.readTree(EtcdJson.put("a/bench/7", value));
    assertEquals("a/bench/7", decode(put.get("key")));
    assertEquals(Base64.getEncoder().encodeToString(value), put.get("value").asText());
  }

  @Test
  void etcdReadsAreLinearizableUnlessSerializableIsAsked() throws IOException {
    JsonNode strong = json.readTree(EtcdJson.get("k", false));
    assertEquals("k", decode(strong.get("key")));
    assertFalse(strong.has("serializable"));
    assertTrue(json.readTree(EtcdJson.get("k", true)).get("serializable").asBoolean());
  }

  @Test
  void etcdScanReadsFromTheStartKeyToTheEndOfTheKeySpaceWithALimit() throws IOException {
    JsonNode scan = json.readTree(EtcdJson.scan("c/bench/5", 42, false));
    assertEquals("c/bench/5", decode(scan.get("key")));
    assertEquals("\0", decode(scan.get("range_end")));
    assertEquals(42, scan.get("limit").asInt());
  }

  @Test
  void etcdPreloadBatchesAreOneTransactionOfPuts() throws IOException {
    JsonNode txn = json.readTree(EtcdJson.putAll(java.util.List.of("a/bench/0", "b/bench/1"), new byte[] {7}));
    assertEquals(2, txn.get("success").size());
    assertEquals("b/bench/1", decode(txn.get("success").get(1).get("request_put").get("key")));
    assertEquals("Bw==", txn.get("success").get(0).get("request_put").get("value").asText());
    assertFalse(txn.has("compare"));
  }

  @Test
  void flotillaKeysKeepTheirSlashesAndEscapeTheRest() {
    assertEquals("a/bench/1", FlotillaApi.pathOf("a/bench/1"));
    assertEquals("users/ada%20lovelace/%C3%A9%3F", FlotillaApi.pathOf("users/ada lovelace/é?"));
  }

  private static String decode(JsonNode base64) {
    return new String(Base64.getDecoder().decode(base64.asText()), StandardCharsets.UTF_8);
  }
}
