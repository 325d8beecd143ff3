/* images: placeholder until implemented. */
#include "applets.h"
#include "util.h"

const char images_usage[] = "Usage: mydocker images\n";

int images_main(int argc, char **argv)
{
	die(125, "not implemented yet");
}
