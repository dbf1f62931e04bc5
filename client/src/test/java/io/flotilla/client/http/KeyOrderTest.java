package io.flotilla.client.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class KeyOrderTest {
  @Test
  void prefixEndIsTheNextStringInCodePointOrder() {
    assertEquals("ab", KeyOrder.prefixEnd("aa"));
    assertEquals("a\u0080", KeyOrder.prefixEnd("a\u007f"), "not a byte increment, which would be invalid UTF-8");
    assertEquals("\uE000", KeyOrder.prefixEnd("\uD7FF"), "surrogates are skipped");
    assertEquals("b", KeyOrder.prefixEnd("a" + new String(Character.toChars(Character.MAX_CODE_POINT))));
    assertNull(KeyOrder.prefixEnd(""));
    assertNull(KeyOrder.prefixEnd(new String(Character.toChars(Character.MAX_CODE_POINT))));
  }

  @Test
  void keysCompareAsUtf8BytesNotAsJavaStrings() {
    String emoji = "\uD83D\uDE00"; // U+1F600: before U+FFFD in UTF-16, after it in UTF-8
    String replacement = "\uFFFD";
    assertTrue(emoji.compareTo(replacement) < 0);
    assertTrue(KeyOrder.compare(KeyOrder.utf8(emoji), KeyOrder.utf8(replacement)) > 0);
    assertTrue(KeyOrder.compare(KeyOrder.utf8("k"), KeyOrder.successor(KeyOrder.utf8("k"))) < 0);
    assertTrue(KeyOrder.compare(KeyOrder.successor(KeyOrder.utf8("k")), KeyOrder.utf8("k\u0001")) < 0,
        "nothing lies between a key and its successor");
  }
}
