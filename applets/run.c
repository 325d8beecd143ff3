/* run: placeholder until implemented. */
#include "applets.h"
#include "util.h"

const char run_usage[] = "Usage: mydocker run\n";

int run_main(int argc, char **argv)
{
	die(125, "not implemented yet");
}
