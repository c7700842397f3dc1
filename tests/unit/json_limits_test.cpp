#include "oidc/detail/json.hpp"

#include <gtest/gtest.h>

#include <string>

#include "fake_transport.hpp"
#include "oidc/detail/response.hpp"
#include "oidc/error.hpp"

using oidc::detail::json_max_depth;
using oidc::detail::JsonFailure;
using oidc::detail::parse_json;
using nlohmann::json;

namespace {

// `depth` nested arrays: [[[...]]].
std::string nested_arrays(std::size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

// `depth` nested objects: {"a":{"a":...{}...}}.
std::string nested_objects(std::size_t depth) {
  std::string s;
  for (std::size_t i = 1; i < depth; ++i) s += "{\"a\":";
  s += "{}";
  s += std::string(depth - 1, '}');
  return s;
}

}  // namespace

TEST(JsonLimits, ReturnsTheDocumentWithEveryValueType) {
  const auto r = parse_json(R"({"s":"x","i":-3,"u":18446744073709551615,"f":1.5,"b":true,"n":null,"a":[1,{"k":[]}]})");
  ASSERT_TRUE(r.ok()) << r.problem;
  EXPECT_EQ(r.value, json::parse(R"({"s":"x","i":-3,"u":18446744073709551615,"f":1.5,"b":true,"n":null,"a":[1,{"k":[]}]})"));
  EXPECT_TRUE(r.value.at("u").is_number_unsigned());
  EXPECT_EQ(parse_json("[]").value, json::array());
  EXPECT_EQ(parse_json(R"("text")").value, "text");
}

TEST(JsonLimits, DepthExactlyAtTheLimitIsAcceptedAndOnePastIsRefused) {
  for (const auto& doc : {nested_arrays(json_max_depth), nested_objects(json_max_depth)}) {
    const auto at = parse_json(doc);
    EXPECT_TRUE(at.ok()) << at.problem;
  }
  for (const auto& doc : {nested_arrays(json_max_depth + 1), nested_objects(json_max_depth + 1)}) {
    const auto past = parse_json(doc);
    EXPECT_EQ(past.failure, JsonFailure::too_deep);
    EXPECT_EQ(past.problem, "nested deeper than 64 levels");
    EXPECT_TRUE(past.value.is_null());
  }
}

TEST(JsonLimits, ACallerMayLowerTheDepthButNotRaiseIt) {
  EXPECT_EQ(parse_json(nested_arrays(3), 2).failure, JsonFailure::too_deep);
  EXPECT_TRUE(parse_json(nested_arrays(2), 2).ok());
  EXPECT_EQ(parse_json(nested_arrays(json_max_depth + 1), 1000).failure, JsonFailure::too_deep);
}

TEST(JsonLimits, HundredThousandLevelsAreRefusedWithoutCrashing) {
  EXPECT_EQ(parse_json(nested_arrays(100'000)).failure, JsonFailure::too_deep);
  EXPECT_EQ(parse_json(nested_objects(100'000)).failure, JsonFailure::too_deep);
  // Unterminated too: the limit trips while parsing, long before the end is missed.
  EXPECT_EQ(parse_json(std::string(100'000, '[')).failure, JsonFailure::too_deep);
}

TEST(JsonLimits, DestroyingADeepDocumentDoesNotRecurse) {
  // The premise of the design: nlohmann 3.11 destroys documents iteratively, so a partial or
  // accepted document is freed without recursion. Built by hand, 100 000 deep; a recursive
  // destructor would overflow the stack here.
  {
    json doc = json::array();
    for (int i = 0; i < 100'000; ++i) {
      json outer = json::array();
      outer.push_back(std::move(doc));
      doc = std::move(outer);
    }
    EXPECT_TRUE(doc.is_array());
  }
  SUCCEED();
}

TEST(JsonLimits, DuplicateMemberNamesAreRefusedAtAnyDepth) {
  auto r = parse_json(R"({"access_token":"a","access_token":"b"})");
  EXPECT_EQ(r.failure, JsonFailure::duplicate_member);
  EXPECT_EQ(r.problem, "duplicate member \"access_token\"");
  r = parse_json(R"({"x":[{"k":1,"k":1}]})");
  EXPECT_EQ(r.failure, JsonFailure::duplicate_member);
  // The same name in different objects is fine.
  EXPECT_TRUE(parse_json(R"({"a":{"k":1},"b":{"k":1}})").ok());
}

TEST(JsonLimits, DuplicateNameIsEscapedAndBoundedInTheProblem) {
  const std::string name = "\\u001b[31m" + std::string(500, 'n');
  const auto r = parse_json("{\"" + name + "\":1,\"" + name + "\":2}");
  EXPECT_EQ(r.failure, JsonFailure::duplicate_member);
  EXPECT_EQ(r.problem.find('\x1b'), std::string::npos) << r.problem;
  EXPECT_NE(r.problem.find("\\x1b[31m"), std::string::npos) << r.problem;
  EXPECT_LT(r.problem.size(), 100u);
}

TEST(JsonLimits, SyntaxErrorsSayWhereButNeverQuoteTheText) {
  auto r = parse_json(R"({"access_token":"secret-value)");
  EXPECT_EQ(r.failure, JsonFailure::not_json);
  EXPECT_EQ(r.problem.find("secret-value"), std::string::npos) << r.problem;
  EXPECT_NE(r.problem.find("at byte"), std::string::npos) << r.problem;
  EXPECT_EQ(parse_json(R"({"a":1} trailing)").failure, JsonFailure::not_json);
  EXPECT_EQ(parse_json("").failure, JsonFailure::not_json);
  EXPECT_EQ(parse_json("{\"a\":\"\xff\"}").failure, JsonFailure::not_json);  // invalid UTF-8
  r = parse_json(R"({"expires_in":1e309})");
  EXPECT_EQ(r.failure, JsonFailure::not_json);
  EXPECT_NE(r.problem.find("out of range"), std::string::npos) << r.problem;
}

TEST(BodyAsObject, FormBodyNamingAParameterTwiceIsRefused) {
  oidc::HttpResponse r;
  r.status = 200;
  r.headers.set("Content-Type", "application/x-www-form-urlencoded");
  r.body = "access_token=a&token_type=bearer&access_token=b";
  const auto body = oidc::detail::body_as_object(r);
  EXPECT_FALSE(body.object);
  EXPECT_EQ(body.failure, JsonFailure::duplicate_member);
  EXPECT_EQ(body.problem, "form body: duplicate parameter \"access_token\"");
}

TEST(BodyAsObject, JsonLimitsApplyToBodies) {
  auto body = oidc::detail::body_as_object(oidc_testing::json_response(200, nested_objects(100'000)));
  EXPECT_FALSE(body.object);
  EXPECT_EQ(body.failure, JsonFailure::too_deep);
  body = oidc::detail::body_as_object(oidc_testing::json_response(200, R"({"a":1,"a":1})"));
  EXPECT_EQ(body.failure, JsonFailure::duplicate_member);
  body = oidc::detail::body_as_object(oidc_testing::json_response(200, R"(  {"a":1})"));
  ASSERT_TRUE(body.object);
  EXPECT_EQ(body.object->at("a"), 1);
}
