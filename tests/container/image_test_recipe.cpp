// Container images, the text formats (docs/container-sim/images.md): the
// JSON reader and writer, the OCI image config and its conversion to a
// process (image-spec conversion.md), and the recipe parser with its
// file:line errors.
#include <gtest/gtest.h>

#include "virtscope/container_image/image_config.h"
#include "virtscope/container_image/json.h"
#include "virtscope/container_image/recipe.h"
#include "virtscope/container_image/sha256.h"

namespace ci = vs::container_image;

TEST(Json, WriterIsCompactAndParserReadsItBack) {
  ci::Json j = ci::Json::make_object();
  j.add("s", ci::Json::make_string("a \"q\" \\ \n \x01 é"));
  j.add("n", ci::Json::make_int(-42));
  j.add("a", ci::Json::make_strings({"x", "y"}));
  j.add("b", ci::Json::make_bool(true));
  j.add("z", ci::Json{});
  const std::string text = j.dump();
  EXPECT_EQ(text, "{\"s\":\"a \\\"q\\\" \\\\ \\n \\u0001 é\",\"n\":-42,\"a\":[\"x\",\"y\"],\"b\":true,\"z\":null}");
  ci::Json back;
  std::string error;
  ASSERT_TRUE(ci::json_parse(text, back, error)) << error;
  EXPECT_EQ(back.dump(), text);
  ASSERT_TRUE(ci::json_parse(" [1.5e3, \"\\u00e9\\ud83d\\ude00\", {}] ", back, error)) << error;
  EXPECT_EQ(back.items[1].text, "é\xF0\x9F\x98\x80");
  EXPECT_FALSE(back.items[0].as_int());
}

TEST(Json, MalformedInput_RejectedWithLineAndColumn) {
  const char* bad[] = {"",       "{",          "[1,]",       "{\"a\":1,}", "{'a':1}", "01",
                       "1.",     "-",          "\"abc",      "\"\t\"",     "tru",     "{\"a\" 1}",
                       "[1] x",  "{\"a\":1,\"a\":2}", "\"\\x\"",  "\"\\ud800\"", "{1:2}",  "[\n\n  @]"};
  for (const char* text : bad) {
    ci::Json j;
    std::string error;
    EXPECT_FALSE(ci::json_parse(text, j, error)) << text;
    EXPECT_EQ(error.rfind("JSON ", 0), 0u) << text << " -> " << error;
  }
  ci::Json j;
  std::string error;
  EXPECT_FALSE(ci::json_parse("[\n\n  @]", j, error));
  EXPECT_NE(error.find("JSON 3:3"), std::string::npos) << error;
  EXPECT_FALSE(ci::json_parse(std::string(100000, '['), j, error));
  EXPECT_NE(error.find("deeper"), std::string::npos);
}

TEST(Recipe, ParsesEveryInstruction) {
  const char* text =
      "# a comment\n"
      "\n"
      "from scratch\n"
      "COPY hello /bin/hello\n"
      "COPY [\"my dir\", \"/opt/x/\"]\n"
      "ENV A=1 B=\"two words\"\n"
      "ENV PATH /bin:/usr/bin\n"
      "WORKDIR /work\n"
      "ENTRYPOINT [\"/bin/hello\", \"-v\"]\n"
      "CMD world  wide\n"
      "RUN [\"/bin/setup\"]\n";
  ci::Recipe r;
  std::string error;
  ASSERT_TRUE(ci::parse_recipe(text, "Containerfile", r, error)) << error;
  ASSERT_EQ(r.steps.size(), 9u);
  EXPECT_EQ(r.steps[0].op, ci::RecipeOp::From);
  EXPECT_EQ(r.steps[0].line, 3);
  EXPECT_EQ(r.steps[0].text, "FROM scratch");
  EXPECT_EQ(r.steps[1].args, (std::vector<std::string>{"hello", "/bin/hello"}));
  EXPECT_EQ(r.steps[2].args, (std::vector<std::string>{"my dir", "/opt/x/"}));
  EXPECT_EQ(r.steps[3].args, (std::vector<std::string>{"A=1", "B=two words"}));
  EXPECT_EQ(r.steps[4].args, (std::vector<std::string>{"PATH=/bin:/usr/bin"}));
  EXPECT_EQ(r.steps[5].args, (std::vector<std::string>{"/work"}));
  EXPECT_EQ(r.steps[6].args, (std::vector<std::string>{"/bin/hello", "-v"}));
  EXPECT_EQ(r.steps[7].args, (std::vector<std::string>{"/bin/sh", "-c", "world  wide"}));
  EXPECT_EQ(r.steps[8].op, ci::RecipeOp::Run);
  EXPECT_EQ(r.steps[8].line, 11);
}

TEST(Recipe, ContinuationsJoinLines_CommentsInsideAreSkipped) {
  const char* text =
      "FROM scratch\n"
      "ENV A=1 \\\n"
      "# inside the continuation\n"
      "    B=2\n"
      "CMD [\"a\", \\\n"
      "     \"b\"]\n";
  ci::Recipe r;
  std::string error;
  ASSERT_TRUE(ci::parse_recipe(text, "C", r, error)) << error;
  ASSERT_EQ(r.steps.size(), 3u);
  EXPECT_EQ(r.steps[1].args, (std::vector<std::string>{"A=1", "B=2"}));
  EXPECT_EQ(r.steps[2].line, 5);
  EXPECT_EQ(r.steps[2].args, (std::vector<std::string>{"a", "b"}));
}

TEST(Recipe, Errors_NameFileLineAndWhat) {
  const struct {
    const char* text;
    const char* expected;
  } cases[] = {
      {"", "Containerfile:1: the recipe has no instructions"},
      {"# only\nCOPY a b\n", "Containerfile:2: the first instruction must be FROM"},
      {"FROM scratch\nADD a b\n", "Containerfile:2: unknown instruction 'ADD'"},
      {"FROM scratch\nFROM scratch\n", "Containerfile:2: a second FROM"},
      {"FROM\n", "Containerfile:1: FROM needs an image name"},
      {"FROM base AS build\n", "Containerfile:1: FROM takes one image name"},
      {"FROM scratch\n\nCOPY onlyone\n", "Containerfile:3: COPY needs exactly two arguments"},
      {"FROM scratch\nCOPY ../secret /x\n", "Containerfile:2: COPY source '../secret' is outside the build context"},
      {"FROM scratch\nCOPY a/../../b /x\n", "is outside the build context"},
      {"FROM scratch\nCOPY --chown=1 a b\n", "Containerfile:2: COPY: flags such as '--chown=1'"},
      {"FROM scratch\nENV\n", "Containerfile:2: ENV needs K=V"},
      {"FROM scratch\nENV ONLYKEY\n", "Containerfile:2: ENV ONLYKEY: missing value"},
      {"FROM scratch\nENV A=1 =2\n", "Containerfile:2: ENV: '=2' is not of the form K=V"},
      {"FROM scratch\nENV A=\"open\n", "unterminated"},
      {"FROM scratch\nCMD [\"a\",]\n", "Containerfile:2: CMD: exec form is not a valid JSON array"},
      {"FROM scratch\nENTRYPOINT [\"a\", 1]\n", "Containerfile:2: ENTRYPOINT: exec form must contain only strings"},
      {"FROM scratch\nRUN\n", "Containerfile:2: RUN: missing command"},
      {"FROM scratch\nWORKDIR\n", "Containerfile:2: WORKDIR needs a path"},
      {"FROM scratch\nENV A=1 \\\n", "Containerfile:2: line continuation"},
  };
  for (const auto& c : cases) {
    ci::Recipe r;
    std::string error;
    EXPECT_FALSE(ci::parse_recipe(c.text, "Containerfile", r, error)) << c.text;
    EXPECT_NE(error.find(c.expected), std::string::npos) << c.text << "\n got: " << error;
  }
}

TEST(Json, EveryByteFlipped_NeverCrashes) {
  const std::string text =
      "{\"a\":[1,-2.5e3,\"x\\u00e9\",true,false,null],\"b\":{\"c\":\"\\ud83d\\ude00\"}}";
  for (size_t i = 0; i < text.size(); ++i) {
    for (char c : {'\0', '"', '\\', '{', ']', 'x', '\x80'}) {
      std::string damaged = text;
      damaged[i] = c;
      ci::Json j;
      std::string error;
      if (!ci::json_parse(damaged, j, error)) {
        EXPECT_FALSE(error.empty());
      }
    }
  }
}

TEST(ImageConfig, RoundTripAndRequiredFields) {
  ci::ImageConfig c;
  c.env = {"A=1"};
  c.entrypoint = {"/bin/app"};
  c.cmd = {"--x"};
  c.working_dir = "/w";
  c.diff_ids = {ci::digest_of("a")};
  c.history = {{"COPY a /a", false}, {"ENV A=1", true}};
  const std::string json = ci::config_to_json(c);
  EXPECT_EQ(json.rfind("{\"architecture\":\"386\",\"os\":\"linux\",\"config\":{\"Env\":[\"A=1\"]", 0), 0u) << json;
  EXPECT_EQ(json.find("created\""), std::string::npos);  // no timestamps
  ci::ImageConfig back;
  std::string error;
  ASSERT_TRUE(ci::config_from_json(json, back, error)) << error;
  EXPECT_EQ(ci::config_to_json(back), json);
  EXPECT_FALSE(ci::config_from_json("{\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}", back,
                                    error));
  EXPECT_NE(error.find("\"architecture\""), std::string::npos);
  EXPECT_FALSE(ci::config_from_json(
      "{\"architecture\":\"386\",\"os\":\"linux\",\"rootfs\":{\"type\":\"zfs\",\"diff_ids\":[]}}", back, error));
  EXPECT_NE(error.find("MUST be \"layers\""), std::string::npos);
  EXPECT_FALSE(ci::config_from_json(
      "{\"architecture\":\"386\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"md5:1\"]}}", back,
      error));
}

TEST(ImageConfig, RuntimeProcess_EntrypointPlusCmd_ArgsReplaceCmd) {
  ci::ImageConfig c;
  c.entrypoint = {"/bin/echo"};
  c.cmd = {"hello"};
  ci::RuntimeProcess p;
  std::string error;
  ASSERT_TRUE(ci::runtime_process(c, {}, p, error));
  EXPECT_EQ(p.args, (std::vector<std::string>{"/bin/echo", "hello"}));
  EXPECT_EQ(p.cwd, "/");
  ASSERT_TRUE(ci::runtime_process(c, {"bye"}, p, error));
  EXPECT_EQ(p.args, (std::vector<std::string>{"/bin/echo", "bye"}));
  c.entrypoint.clear();
  c.working_dir = "/w";
  ASSERT_TRUE(ci::runtime_process(c, {}, p, error));
  EXPECT_EQ(p.args, (std::vector<std::string>{"hello"}));
  EXPECT_EQ(p.cwd, "/w");
  c.cmd.clear();
  EXPECT_FALSE(ci::runtime_process(c, {}, p, error));
}

TEST(Recipe, DamagedRecipes_NeverCrash_ErrorsAlwaysNameFileAndLine) {
  const std::string text =
      "FROM scratch\nCOPY [\"a\", \"b\"]\nENV A=\"x y\" \\\n  B=2\nCMD [\"c\"]\nWORKDIR /w\nRUN x\n";
  for (size_t i = 0; i < text.size(); ++i) {
    for (char c : {'\0', '\n', '\\', '"', '[', '#', ' '}) {
      std::string damaged = text;
      damaged[i] = c;
      ci::Recipe r;
      std::string error;
      if (!ci::parse_recipe(damaged, "R", r, error)) {
        EXPECT_EQ(error.rfind("R:", 0), 0u) << error;
      }
    }
  }
}
