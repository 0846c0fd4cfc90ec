// Command jindianzi serves the 金点子 portal and carries every operator command.
// main only wires: see run.
package main

import "os"

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
