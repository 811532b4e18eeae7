(000) ldh      [12]
(001) jeq      #0x800           jt 2	jf 19
(002) ld       #0x2
(003) st       M[0]
(004) ldx      M[0]
(005) ldh      [x + 14]
(006) st       M[1]
(007) ld       #0x2
(008) st       M[2]
(009) ldx      M[2]
(010) ld       M[1]
(011) mul      x
(012) st       M[2]
(013) ld       #0xbb8
(014) st       M[3]
(015) ldx      M[3]
(016) ld       M[2]
(017) jge      x                jt 19	jf 18
(018) ret      #262144
(019) ret      #0
