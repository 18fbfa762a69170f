/* kleidi: `kleidi serve` runs the server; every other subcommand is the
 * operator CLI (idp/cli). */
#include "cli/cli.h"

int
main(int argc, char **argv)
{
	return cli_main(argc, argv);
}
