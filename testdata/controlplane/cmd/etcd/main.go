// Command etcd is etcd's server built from go.etcd.io/etcd/server/v3 at the version that
// this module pins; it does what upstream's etcd binary does (etcdmain.Main).
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
