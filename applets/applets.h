/* The applets: each applets/NAME.c defines NAME_main and NAME_usage. Registered in main.c only. */
#ifndef MYDOCKER_APPLETS_H
#define MYDOCKER_APPLETS_H

struct applet {
	const char *name;
	int (*main)(int argc, char **argv);
	const char *usage;	/* full --help text */
	const char *help;	/* one line for --list and the top-level usage */
};

#define APPLET(n) extern int n##_main(int, char **); extern const char n##_usage[];
APPLET(commit) APPLET(exec) APPLET(export) APPLET(images) APPLET(import) APPLET(info) APPLET(init) APPLET(inspect) APPLET(load) APPLET(logs) APPLET(net)
APPLET(ps) APPLET(rm) APPLET(rmi) APPLET(run) APPLET(runc) APPLET(save) APPLET(start) APPLET(stats) APPLET(stop) APPLET(version)
#undef APPLET

/* The running applet (for usage()). */
extern const struct applet *cur_applet;
/* Print the current applet's usage to stdout (code 0) or stderr, then exit(code). */
void usage(int code) __attribute__((noreturn));
/* Path of the running binary (/proc/self/exe resolved). */
const char *self_exe(void);

#endif
