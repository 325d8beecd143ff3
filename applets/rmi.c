/* rmi: placeholder until implemented. */
#include "applets.h"
#include "util.h"

const char rmi_usage[] = "Usage: mydocker rmi\n";

int rmi_main(int argc, char **argv)
{
	die(125, "not implemented yet");
}
