// cowork-token: see token_cli.h.
#include <cstdlib>
#include <iostream>

#include "libs/clock/clock.h"
#include "tools/token/token_cli.h"

int main(int argc, char** argv) {
  cowork::token::CliEnvironment env{
      .getenv = [](const std::string& name) -> std::optional<std::string> {
        const char* value = std::getenv(name.c_str());
        if (value == nullptr) return std::nullopt;
        return std::string(value);
      },
      .now = cowork::RealClock::Get().Now()};
  return cowork::token::RunTokenCli(argc, argv, env, std::cout, std::cerr);
}
