/* import: placeholder until implemented. */
#include "applets.h"
#include "util.h"

const char import_usage[] = "Usage: mydocker import\n";

int import_main(int argc, char **argv)
{
	die(125, "not implemented yet");
}
