(000) ldh      [12]
(001) jeq      #0x800           jt 2	jf 6
(002) ldh      [16]
(003) div      #2
(004) jgt      #0x64            jt 5	jf 6
(005) ret      #262144
(006) ret      #0
