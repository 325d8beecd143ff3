/* exec: placeholder until implemented. */
#include "applets.h"
#include "util.h"

const char exec_usage[] = "Usage: mydocker exec\n";

int exec_main(int argc, char **argv)
{
	die(125, "not implemented yet");
}
