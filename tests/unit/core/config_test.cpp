// The configuration machinery itself, on a small schema of its own: typed binders, the YAML walk,
// error messages that name the key and the file, and help text generated from the defaults.
#include "podmortem/core/config.h"

#include <gtest/gtest.h>

#include "podmortem/core/duration.h"
#include "test_support.h"

namespace podmortem::core {
namespace {

using podmortem::testing::TempDir;
using podmortem::testing::writeFile;

enum class Color { kRed, kGreen };

struct Paint {
  Color color = Color::kRed;
  uint32_t coats = 2;
  double thickness = 0.5;
  bool glossy = false;
  std::chrono::milliseconds dryTime{std::chrono::minutes(30)};
  std::string brush;
  std::string label = "wall";
  std::vector<std::string> rooms;

  static void bind(SectionBinder<Paint>& keys) {
    keys.choice("color", &Paint::color, {{"red", Color::kRed}, {"green", Color::kGreen}},
                "the colour");
    keys.integer("coats", &Paint::coats, 1, 5, "how many coats");
    keys.number("thickness", &Paint::thickness, 0.1, 2, "millimetres a coat");
    keys.flag("glossy", &Paint::glossy, "whether it shines");
    keys.duration("dryTime", &Paint::dryTime, "time between coats");
    keys.path("brush", &Paint::brush, "the brush's file").whenUnset("bare hands");
    keys.text("label", &Paint::label, "what it says on the tin", true);
    keys.list("rooms", &Paint::rooms, "where it goes (list)");
  }
};

struct Server {
  std::string listen = "0.0.0.0:80";
  static void bind(SectionBinder<Server>& keys) {
    keys.address("listen", &Server::listen, "where to listen");
  }
};

struct House {
  Server server;
  Paint paint;
};

const ConfigSchema<House>& schema() {
  static const ConfigSchema<House> s = [] {
    ConfigSchema<House> built;
    built.section("", &House::server).section("paint", &House::paint);
    return built;
  }();
  return s;
}

TEST(ConfigSchema, FileOverridesDefaultsAndResolvesPathsAgainstItsFolder) {
  TempDir dir;
  writeFile(dir.path() / "conf" / "house.yaml",
            "listen: 127.0.0.1:8080\n"
            "paint:\n  color: green\n  coats: 3\n  thickness: 1.25\n  glossy: true\n"
            "  dryTime: 90s\n  brush: ../tools/brush\n  rooms: [hall, kitchen]\n");
  House house = schema().load((dir.path() / "conf" / "house.yaml").string());
  EXPECT_EQ(house.server.listen, "127.0.0.1:8080");
  EXPECT_EQ(house.paint.color, Color::kGreen);
  EXPECT_EQ(house.paint.coats, 3u);
  EXPECT_DOUBLE_EQ(house.paint.thickness, 1.25);
  EXPECT_TRUE(house.paint.glossy);
  EXPECT_EQ(house.paint.dryTime, std::chrono::seconds(90));
  EXPECT_EQ(house.paint.brush, (dir.path() / "tools" / "brush").string());
  EXPECT_EQ(house.paint.rooms, (std::vector<std::string>{"hall", "kitchen"}));
  EXPECT_EQ(house.paint.label, "wall") << "unset keys keep their default";
}

TEST(ConfigSchema, EveryErrorNamesTheKeyAndTheFile) {
  TempDir dir;
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"listen: nowhere\n", "key \"listen\": expected host:port"},
      {"listen: 127.0.0.1:99999\n", "key \"listen\""},
      {"paint: {color: blue}\n", "key \"paint.color\": expected one of red, green, got \"blue\""},
      {"paint: {coats: 9}\n", "key \"paint.coats\": expected an integer from 1 to 5"},
      {"paint: {coats: -1}\n", "key \"paint.coats\""},
      {"paint: {thickness: thick}\n", "key \"paint.thickness\": expected a number"},
      {"paint: {glossy: yes}\n", "key \"paint.glossy\": expected true or false"},
      {"paint: {dryTime: soon}\n", "key \"paint.dryTime\": expected a positive duration"},
      {"paint: {label: \"\"}\n", "key \"paint.label\": expected a non-empty value"},
      {"paint: {rooms: hall}\n", "key \"paint.rooms\": expected a list"},
      {"paint: {coats: [1, 2]}\n", "key \"paint.coats\": expected a single value, got a list"},
      {"paint: {colr: red}\n", "unknown key \"paint.colr\""},
      {"paint: plain\n", "unknown key \"paint\""},
      {"listen: {a: 1}\n", "key \"listen\": expected a value, got a map"},
  };
  for (const auto& [text, expected] : cases) {
    auto file = (dir.path() / "house.yaml").string();
    writeFile(file, text);
    try {
      schema().load(file);
      ADD_FAILURE() << "accepted: " << text;
    } catch (const ConfigError& error) {
      std::string message = error.what();
      EXPECT_NE(message.find(expected), std::string::npos) << text << " -> " << message;
      EXPECT_EQ(message.rfind(file + ": ", 0), 0u) << message;
    }
  }
}

TEST(ConfigSchema, UnreadableOrInvalidYamlIsAConfigError) {
  EXPECT_THROW(schema().load("/nonexistent/house.yaml"), ConfigError);
  TempDir dir;
  writeFile(dir.path() / "x.yaml", "listen: [unclosed\n");
  EXPECT_THROW(schema().load((dir.path() / "x.yaml").string()), ConfigError);
  writeFile(dir.path() / "list.yaml", "- a\n- b\n");
  EXPECT_THROW(schema().load((dir.path() / "list.yaml").string()), ConfigError);
}

TEST(ConfigSchema, SetAppliesOneDottedKeyAndAddsToLists) {
  House house;
  schema().set(house, "paint.coats", "4");
  schema().set(house, "paint.rooms", "hall");
  schema().set(house, "paint.rooms", "attic");
  EXPECT_EQ(house.paint.coats, 4u);
  EXPECT_EQ(house.paint.rooms, (std::vector<std::string>{"hall", "attic"}));
  EXPECT_THROW(schema().set(house, "paint.nothing", "1"), ConfigError);
}

TEST(ConfigSchema, HelpTextCarriesTheDefaultsOfADefaultConstructedRoot) {
  std::map<std::string, std::string> keys;
  for (const auto& key : schema().keys()) keys[key.key] = key.description;
  EXPECT_EQ(keys.size(), 9u);
  EXPECT_EQ(keys["listen"], "where to listen (default 0.0.0.0:80)");
  EXPECT_EQ(keys["paint.color"], "the colour (default red)");
  EXPECT_EQ(keys["paint.coats"], "how many coats (default 2)");
  EXPECT_EQ(keys["paint.thickness"], "millimetres a coat (default 0.5)");
  EXPECT_EQ(keys["paint.glossy"], "whether it shines (default false)");
  EXPECT_EQ(keys["paint.dryTime"], "time between coats (default 30m)");
  EXPECT_EQ(keys["paint.brush"], "the brush's file (unset: bare hands)");
  EXPECT_EQ(keys["paint.rooms"], "where it goes (list)");
}

// A list of maps (records), as export.sinks is.
struct Tin {
  std::string name;
  uint32_t litres = 1;
  std::vector<std::string> tags;
  static void bind(SectionBinder<Tin>& keys) {
    keys.text("name", &Tin::name, "the tin's name");
    keys.integer("litres", &Tin::litres, 1, 20, "how much it holds");
    keys.list("tags", &Tin::tags, "what it is for");
  }
};

struct Shop {
  std::vector<Tin> tins;
  static void bind(SectionBinder<Shop>& keys) { keys.records("tins", &Shop::tins, "tins on the shelf"); }
};

struct Street {
  Shop shop;
};

const ConfigSchema<Street>& streetSchema() {
  static const ConfigSchema<Street> s = [] {
    ConfigSchema<Street> built;
    built.section("shop", &Street::shop);
    return built;
  }();
  return s;
}

TEST(ConfigRecords, AListOfMapsIsReadItemByItem) {
  auto street = streetSchema().parse(
      "shop:\n  tins:\n    - {name: blue, litres: 5, tags: [walls, doors]}\n    - name: white\n", "s.yaml", {});
  ASSERT_EQ(street.shop.tins.size(), 2u);
  EXPECT_EQ(street.shop.tins[0].name, "blue");
  EXPECT_EQ(street.shop.tins[0].litres, 5u);
  EXPECT_EQ(street.shop.tins[0].tags, (std::vector<std::string>{"walls", "doors"}));
  EXPECT_EQ(street.shop.tins[1].name, "white");
  EXPECT_EQ(street.shop.tins[1].litres, 1u) << "an item's own default";
}

TEST(ConfigRecords, ErrorsNameTheItemAndItsKey) {
  auto error = [](const std::string& yaml) {
    try {
      streetSchema().parse(yaml, "s.yaml", {});
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_EQ(error("shop:\n  tins:\n    - {name: a}\n    - {litres: 50}\n"),
            "s.yaml: key \"shop.tins[1].litres\": expected an integer from 1 to 20, got \"50\"");
  EXPECT_EQ(error("shop:\n  tins:\n    - {colour: red}\n"),
            "s.yaml: key \"shop.tins[0].colour\": unknown key \"colour\"");
  EXPECT_EQ(error("shop:\n  tins:\n    - blue\n"), "s.yaml: key \"shop.tins[0]\": expected a map");
  EXPECT_EQ(error("shop:\n  tins: blue\n"), "s.yaml: key \"shop.tins\": expected a list");
}

TEST(ConfigRecords, SetReachesAnItemByIndexAndMayAddTheNextOne) {
  Street street;
  streetSchema().set(street, "shop.tins[0].name", "blue");
  streetSchema().set(street, "shop.tins[0].litres", "3");
  streetSchema().set(street, "shop.tins[1].name", "white");
  ASSERT_EQ(street.shop.tins.size(), 2u);
  EXPECT_EQ(street.shop.tins[0].litres, 3u);
  EXPECT_EQ(street.shop.tins[1].name, "white");
  EXPECT_THROW(streetSchema().set(street, "shop.tins[5].name", "x"), ConfigError);
  EXPECT_THROW(streetSchema().set(street, "shop.tins[x].name", "x"), ConfigError);
  EXPECT_THROW(streetSchema().set(street, "shop.tins", "x"), ConfigError);
}

TEST(ConfigRecords, HelpTextListsEachItemKeyWithItsDefault) {
  std::map<std::string, std::string> keys;
  for (const auto& key : streetSchema().keys()) keys[key.key] = key.description;
  EXPECT_EQ(keys.size(), 4u);
  EXPECT_EQ(keys["shop.tins"], "tins on the shelf");
  EXPECT_EQ(keys["shop.tins[].litres"], "how much it holds (default 1)");
  EXPECT_EQ(keys["shop.tins[].name"], "the tin's name");
}

TEST(ConfigValue, DurationsReadBackInTheirLargestWholeUnit) {
  EXPECT_EQ(configvalue::formatDuration(std::chrono::hours(2)), "2h");
  EXPECT_EQ(configvalue::formatDuration(std::chrono::minutes(30)), "30m");
  EXPECT_EQ(configvalue::formatDuration(std::chrono::seconds(90)), "90s");
  EXPECT_EQ(configvalue::formatDuration(std::chrono::milliseconds(1500)), "1500ms");
}

TEST(DurationTest, ParsesKubernetesStyleDurations) {
  EXPECT_EQ(parseDuration("20s"), std::chrono::seconds(20));
  EXPECT_EQ(parseDuration("1m30s"), std::chrono::seconds(90));
  EXPECT_EQ(parseDuration("500ms"), std::chrono::milliseconds(500));
  EXPECT_EQ(parseDuration("2h"), std::chrono::hours(2));
  EXPECT_EQ(parseDuration("1.5s"), std::chrono::milliseconds(1500));
  EXPECT_FALSE(parseDuration("10"));
  EXPECT_FALSE(parseDuration(""));
  EXPECT_FALSE(parseDuration("-5s"));
  EXPECT_FALSE(parseDuration("5 days"));
}

}  // namespace
}  // namespace podmortem::core
