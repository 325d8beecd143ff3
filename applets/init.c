/* init: placeholder until implemented. */
#include "applets.h"
#include "util.h"

const char init_usage[] = "Usage: mydocker init\n";

int init_main(int argc, char **argv)
{
	die(125, "not implemented yet");
}
