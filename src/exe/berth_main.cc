// berth: the command line; all logic lives in cli/.
#include <iostream>

#include "cli/cli.h"

int main(int argc, char** argv) { return berth::cli::Run(argc, argv, std::cout, std::cerr); }
