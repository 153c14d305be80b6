#include "core/log.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <sstream>

namespace berth::log {
namespace {

// Logs through a JSON-formatted ostream sink and returns the single emitted line.
std::string LogJsonLine(std::string_view message) {
  std::ostringstream out;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
  sink->set_formatter(MakeJsonFormatter());
  spdlog::logger logger("", sink);
  logger.info("{}", message);
  return out.str();
}

TEST(LogJson, QuotesNewlinesAndControlCharactersStayValidJson) {
  const std::string message = "zone \"a\\b\" loaded:\nline2\ttab\x01 end \xc3\xa9";
  std::string line = LogJsonLine(message);
  ASSERT_FALSE(line.empty());
  EXPECT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1) << "a message newline leaked into the output";
  auto json = nlohmann::json::parse(line);
  EXPECT_EQ(json["msg"], message);
  EXPECT_EQ(json["level"], "info");
  std::string ts = json["ts"];
  ASSERT_EQ(ts.size(), 24u) << ts;  // 2026-11-22T03:04:05.123Z
  EXPECT_EQ(ts[10], 'T');
  EXPECT_EQ(ts[19], '.');
  EXPECT_EQ(ts.back(), 'Z');
  EXPECT_FALSE(json.contains("logger"));
}

TEST(LogJson, InvalidUtf8IsReplacedNotEmitted) {
  std::string line = LogJsonLine("bad \xff\xfe byte \xc3");
  auto json = nlohmann::json::parse(line);  // throws on invalid UTF-8
  EXPECT_EQ(json["msg"], "bad \xef\xbf\xbd\xef\xbf\xbd byte \xef\xbf\xbd");
}

TEST(LogJson, LevelNames) {
  std::ostringstream out;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
  sink->set_formatter(MakeJsonFormatter());
  spdlog::logger logger("zones", sink);
  logger.set_level(spdlog::level::trace);
  logger.warn("w");
  logger.error("e");
  std::istringstream lines(out.str());
  std::string l;
  std::getline(lines, l);
  auto first = nlohmann::json::parse(l);
  EXPECT_EQ(first["level"], "warn");
  EXPECT_EQ(first["logger"], "zones");
  std::getline(lines, l);
  EXPECT_EQ(nlohmann::json::parse(l)["level"], "error");
}

TEST(LogEscape, EscapesEverythingJsonRequires) {
  std::string out;
  AppendJsonEscaped(std::string("a\"b\\c\r\n\x7f\0", 9), out);
  EXPECT_EQ(out, "a\\\"b\\\\c\\r\\n\\u007f\\u0000");
}

TEST(LogLevel, ParsesNamesCaseInsensitively) {
  EXPECT_EQ(*ParseLevel("info"), Level::kInfo);
  EXPECT_EQ(*ParseLevel("DEBUG"), Level::kDebug);
  EXPECT_EQ(*ParseLevel("warning"), Level::kWarn);
  EXPECT_EQ(*ParseLevel("off"), Level::kOff);
  auto bad = ParseLevel("loud");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), Code::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("loud"), std::string::npos);
  EXPECT_EQ(LevelName(Level::kWarn), "warn");
}

TEST(LogFormat, ParsesTextAndJson) {
  EXPECT_EQ(*ParseFormat("json"), Format::kJson);
  EXPECT_EQ(*ParseFormat("Text"), Format::kText);
  EXPECT_FALSE(ParseFormat("xml").ok());
  EXPECT_EQ(FormatName(Format::kJson), "json");
}

TEST(LogInit, InstallsDefaultLoggerAtLevel) {
  Init(Format::kJson, Level::kWarn);
  EXPECT_EQ(spdlog::default_logger()->level(), spdlog::level::warn);
  Init(Format::kText, Level::kDebug);
  EXPECT_EQ(spdlog::default_logger()->level(), spdlog::level::debug);
}

TEST(LogReconfigure, ChangesFormatAndLevelOfTheSameLogger) {
  Init(Format::kText, Level::kInfo);
  spdlog::logger* before = spdlog::default_logger_raw();
  std::ostringstream captured;
  before->sinks().push_back(std::make_shared<spdlog::sinks::ostream_sink_mt>(captured));

  Reconfigure(Format::kJson, Level::kWarn);
  EXPECT_EQ(spdlog::default_logger_raw(), before);  // never replaced: other threads may hold it
  EXPECT_EQ(before->level(), spdlog::level::warn);
  spdlog::info("dropped");
  spdlog::warn("kept \"quoted\"");
  before->flush();
  std::string line = captured.str();
  ASSERT_FALSE(line.empty());
  auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["msg"], "kept \"quoted\"");
  EXPECT_EQ(j["level"], "warn");

  captured.str("");
  Reconfigure(Format::kText, Level::kInfo);
  spdlog::info("plain");
  before->flush();
  EXPECT_NE(captured.str().find(" info plain"), std::string::npos) << captured.str();
  Init(Format::kText, Level::kInfo);
}

}  // namespace
}  // namespace berth::log
