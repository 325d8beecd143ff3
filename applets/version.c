/* version: what this binary is. */
#include <stdio.h>
#include <sys/utsname.h>
#include "applets.h"
#include "state.h"

const char version_usage[] =
	"Usage: mydocker version\n\n"
	"Show the version of mydocker, the architecture it was built for and the state root.\n";

int version_main(int argc, char **argv)
{
	struct utsname u;
	if (argc > 1)
		usage(2);
	uname(&u);
	printf("mydocker version %s\n", MYDOCKER_VERSION);
	printf("  arch:   %s\n  kernel: %s\n  root:   %s\n", u.machine, u.release, state_root());
	return 0;
}
