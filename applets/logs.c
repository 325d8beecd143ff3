/* logs: placeholder until implemented. */
#include "applets.h"
#include "util.h"

const char logs_usage[] = "Usage: mydocker logs\n";

int logs_main(int argc, char **argv)
{
	die(125, "not implemented yet");
}
