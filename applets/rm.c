/* rm: placeholder until implemented. */
#include "applets.h"
#include "util.h"

const char rm_usage[] = "Usage: mydocker rm\n";

int rm_main(int argc, char **argv)
{
	die(125, "not implemented yet");
}
