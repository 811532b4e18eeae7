(000) ld       #pktlen
(001) st       M[0]
(002) ld       #0xe
(003) st       M[1]
(004) ldx      M[1]
(005) ld       M[0]
(006) sub      x
(007) st       M[1]
(008) ld       #0x64
(009) st       M[2]
(010) ldx      M[2]
(011) ld       M[1]
(012) jgt      x                jt 13	jf 14
(013) ret      #262144
(014) ret      #0
