/* start: placeholder until implemented. */
#include "applets.h"
#include "util.h"

const char start_usage[] = "Usage: mydocker start\n";

int start_main(int argc, char **argv)
{
	die(125, "not implemented yet");
}
