#include "oidc/detail/form.hpp"

#include <gtest/gtest.h>

using oidc::Params;
using oidc::detail::form_decode;
using oidc::detail::form_encode;
using oidc::detail::form_encode_component;

TEST(FormEncode, UnreservedCharactersPassThrough) {
  EXPECT_EQ(form_encode_component("AZaz09-._*"), "AZaz09-._*");
}

TEST(FormEncode, SpaceIsPlusAndReservedArePercentEncoded) {
  // RFC 6749 Appendix B: application/x-www-form-urlencoded, as HTML forms encode.
  EXPECT_EQ(form_encode_component("openid profile"), "openid+profile");
  EXPECT_EQ(form_encode_component("a+b&c=d/e:f~"), "a%2Bb%26c%3Dd%2Fe%3Af%7E");
  EXPECT_EQ(form_encode_component("urn:ietf:params:oauth:grant-type:device_code"),
            "urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code");
}

TEST(FormEncode, Utf8IsEncodedBytewise) { EXPECT_EQ(form_encode_component("\xC3\xA9"), "%C3%A9"); }

TEST(FormEncode, KeepsParameterOrder) {
  EXPECT_EQ(form_encode({{"grant_type", "client_credentials"}, {"scope", "a b"}, {"x", ""}}),
            "grant_type=client_credentials&scope=a+b&x=");
}

TEST(FormDecode, InvertsEncode) {
  const Params p{{"k y", "v&=+%\xC3\xA9"}, {"empty", ""}, {"grant_type", "password"}};
  EXPECT_EQ(form_decode(form_encode(p)), p);
}

TEST(FormDecode, LenientOnMalformedInput) {
  const Params expected{{"a", "%zz"}, {"b", ""}, {"c", "100%"}};
  EXPECT_EQ(form_decode("a=%zz&&b&c=100%"), expected);
}
