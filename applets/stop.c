/* stop: placeholder until implemented. */
#include "applets.h"
#include "util.h"

const char stop_usage[] = "Usage: mydocker stop\n";

int stop_main(int argc, char **argv)
{
	die(125, "not implemented yet");
}
