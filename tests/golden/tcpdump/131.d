(000) ldh      [12]
(001) jeq      #0x800           jt 2	jf 12
(002) ldh      [16]
(003) st       M[1]
(004) ldb      [14]
(005) and      #0xf
(006) lsh      #2
(007) tax      
(008) ld       M[1]
(009) sub      x
(010) jgt      #0x64            jt 11	jf 12
(011) ret      #262144
(012) ret      #0
