package manifest

// ImageProblem says why s is not an image reference ("" when it is one), for
// input checks that run before any manifest is read.
func ImageProblem(s string) string {
	_, why := parseImage(s)
	return why
}
