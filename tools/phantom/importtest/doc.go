// Package importtest holds only a test: it writes every phantom variant and
// imports it with ctlens/volume, checking that the importer recovers the
// geometry and the values the generator's ground truth states. It lives
// apart from the generator so that the generator's own tests do not depend
// on the importer building.
package importtest
