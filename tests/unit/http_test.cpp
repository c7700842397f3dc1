#include "oidc/http.hpp"

#include <gtest/gtest.h>

using oidc::Headers;

TEST(Headers, NamesCompareCaseInsensitively) {
  Headers h{{"Content-Type", "application/json"}};
  EXPECT_EQ(h.get("content-type"), "application/json");
  EXPECT_TRUE(h.contains("CONTENT-TYPE"));
  EXPECT_FALSE(h.get("Accept"));
}

TEST(Headers, SetReplacesEveryFieldOfThatNameAddKeepsOthers) {
  Headers h;
  h.add("X-A", "1");
  h.add("x-a", "2");
  h.add("X-B", "3");
  EXPECT_EQ(h.size(), 3u);
  EXPECT_EQ(h.get("X-A"), "1");  // first wins on read
  h.set("X-a", "9");
  EXPECT_EQ(h.size(), 2u);
  EXPECT_EQ(h.get("x-A"), "9");
  h.erase("X-B");
  EXPECT_EQ(h.size(), 1u);
}

TEST(HttpResponse, OkMeansTwoHundreds) {
  oidc::HttpResponse r;
  for (int s : {200, 201, 204, 299}) {
    r.status = s;
    EXPECT_TRUE(r.ok()) << s;
  }
  for (int s : {0, 199, 300, 302, 400, 500}) {
    r.status = s;
    EXPECT_FALSE(r.ok()) << s;
  }
}
