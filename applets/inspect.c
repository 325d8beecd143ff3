/* inspect: placeholder until implemented. */
#include "applets.h"
#include "util.h"

const char inspect_usage[] = "Usage: mydocker inspect\n";

int inspect_main(int argc, char **argv)
{
	die(125, "not implemented yet");
}
