/* ps: placeholder until implemented. */
#include "applets.h"
#include "util.h"

const char ps_usage[] = "Usage: mydocker ps\n";

int ps_main(int argc, char **argv)
{
	die(125, "not implemented yet");
}
