package actors

import (
	"fmt"
	"strconv"
	"strings"
)

// Party names. Data owners are named by OwnerNames, the group workers of
// an aggregation tree by GroupWorkerName.
const (
	SecureWorkerName = "secure-worker"
	ModelOwnerName   = "model-owner"
)

// ownerNames are the first data owners' names, after the classic tutorial.
var ownerNames = [...]string{"bob", "alice", "carol", "dave", "eve", "frank", "grace", "heidi"}

// OwnerName returns the name of data owner i (0-based): bob, alice, carol,
// dave, eve, frank, grace, heidi, then owner-09, owner-10, ...
func OwnerName(i int) string {
	if i < len(ownerNames) {
		return ownerNames[i]
	}
	return fmt.Sprintf("owner-%02d", i+1)
}

// OwnerNames returns the names of n data owners.
func OwnerNames(n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = OwnerName(i)
	}
	return names
}

// GroupWorkerName returns the name of the secure worker of group i
// (0-based) of an aggregation tree (Federation.GroupSize):
// secure-worker-1, secure-worker-2, ...
func GroupWorkerName(i int) string { return SecureWorkerName + "-" + strconv.Itoa(i+1) }

// groupNumber returns i if name is GroupWorkerName(i), else -1.
func groupNumber(name string) int {
	s, ok := strings.CutPrefix(name, SecureWorkerName+"-")
	if !ok {
		return -1
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || GroupWorkerName(n-1) != name {
		return -1
	}
	return n - 1
}
